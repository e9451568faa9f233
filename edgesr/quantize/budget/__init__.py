"""The accuracy budget: per-unit sensitivity, the noise model, drop evaluation, hard validation content and the
fallback step that keeps the most damaging INT8 units in higher precision."""
