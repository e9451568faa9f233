"""``edgesr app``: a local web application (Streamlit) over the library.

Pages: Upscale (one image or a short video through a model, bicubic beside it), Compare
(artifacts scored by :mod:`edgesr.report`, the numbers ``edgesr validate`` prints), Build
(:func:`edgesr.deploy.build` in a worker process, with stages and cancel) and Devices (the
device table and ``edgesr doctor``). Nothing here is imported by ``import edgesr`` or the other
commands; Streamlit comes with the ``app`` extra.
"""
