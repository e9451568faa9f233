"""The tegrastats parser on lines recorded from every module family (fixtures/tegrastats/)."""

import pytest

from edgesr.jetson.tegrastats import parse_line
from tests.jetson.fakes import fixture


def samples(name):
    parsed = [parse_line(line) for line in fixture(f"tegrastats/{name}.txt").splitlines()]
    return [s for s in parsed if s is not None]


# file -> per line: RAM used/total, GPU load, GPU frequencies, rail giving the total (None: sum), power mW,
# a temperature and its value
EXPECTED = {
    "nano": [
        (1923, 3964, 0.0, (76,), "POM_5V_IN", 1750, ("GPU", 40.0)),
        (1180, 3965, 0.0, (76,), "POM_5V_IN", 4520, ("thermal", 59.75)),
    ],
    "xavier-nx": [
        (5246, 7771, 0.0, (1109,), "VDD_IN", 6140, ("GPU", 31.5)),
        (3168, 6851, 0.0, (114,), "VDD_IN", 2763, ("GPU", 45.5)),
    ],
    "xavier-agx": [(14700, 15692, 0.0, (), None, 463 + 618 + 2936 + 0 + 309 + 3306, ("AUX", 30.5))],
    "tx2": [(2020, 7852, 0.0, (), "VDD_IN", 3140, ("BCPU", 42.5))],
    "orin-nano": [(2147, 7620, 0.0, (), "VDD_IN", 4556, ("gpu", 48.625))],
    "orin-nx": [(6982, 7620, 84.0, (713,), "VDD_IN", 17946, ("cv2", 60.875))],
    "orin-agx": [
        (4321, 62801, 0.0, (0, 0), None, 2340 + 390 + 4025 + 301, ("tj", 44.343)),
        (18207, 62841, 0.0, (0, 0), None, 2412 + 1607 + 4707, ("soc1", 49.656)),
    ],
    "thor": [
        (36529, 125749, None, (), "VIN", 87426, ("gpu", 62.906)),
        (37755, 125749, None, (), None, 1975 + 5530, ("gpu", 41.843)),
        (4280, 125773, None, (0, 0, 0), None, 0 + 4923 + 4327, ("soc012", 36.062)),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_recorded_line_parses(name):
    got = samples(name)
    assert len(got) == len(EXPECTED[name])
    for sample, (used, total, load, freqs, rail, power, (sensor, celsius)) in zip(got, EXPECTED[name]):
        assert (sample.ram_used_mb, sample.ram_total_mb) == (used, total)
        assert sample.gpu_load_pct == load
        assert sample.gpu_freq_mhz == freqs
        assert sample.total_rail == rail
        assert sample.power_mw == power
        assert sample.temps_c[sensor] == celsius
        assert sample.cpu_load_pct and len(sample.cpu_load_pct) == len(sample.cpu_freq_mhz)


def test_timestamps_swap_and_emc():
    orin = samples("orin-agx")[1]
    assert orin.timestamp == "05-09-2026 18:42:06"
    assert (orin.swap_used_mb, orin.swap_total_mb) == (86, 31420)
    assert (orin.emc_load_pct, orin.emc_freq_mhz) == (3.0, 2133)
    assert orin.cpu_freq_mhz[0] == 2188 and len(orin.cpu_load_pct) == 12
    assert samples("nano")[0].timestamp is None
    assert samples("tx2")[0].swap_used_mb is None  # JetPack 4.2 on a TX2 printed no SWAP field


def test_sensors_that_are_off_and_pmic_thresholds_are_not_temperatures():
    agx = samples("orin-agx")[0]
    assert "GPU" not in agx.temps_c and "CV0" not in agx.temps_c  # -256C: powered down
    assert "PMIC" not in samples("nano")[0].temps_c  # PMIC@50C is an alarm threshold


def test_thor_limits_and_three_value_rails():
    thor = samples("thor")
    assert thor[1].temps_c["cpu"] == 40.281  # "cpu@40.281C/40.281C": the reading, not the limit
    assert thor[0].rails_mw["VIN"] == 87426  # current of current/average/peak
    assert thor[0].rails_mw["VDD_CPU_SOC_MSS"] == 18961


def test_unconnected_channels_are_not_rails():
    assert "NC" not in samples("orin-agx")[0].rails_mw


def test_offline_cores():
    sample = parse_line("RAM 1224/15368MB (lfb 8x4MB) CPU [1%@729,0%@729,off,off] GR3D_FREQ 0%@[305]")
    assert sample.cpu_load_pct == (1.0, 0.0, None, None)
    assert sample.cpu_freq_mhz == (729, 729, None, None)
    assert sample.gpu_freq_mhz == (305,) and sample.rails_mw == {} and sample.power_mw is None


@pytest.mark.parametrize(
    "line", ["", "NVPM WARN: fan mode is not set!", "tegrastats: permission denied", "# source: a comment"]
)
def test_anything_else_is_not_a_sample(line):
    assert parse_line(line) is None
