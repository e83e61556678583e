"""The CTI kernel: the tight loop, call model, media operations, ACD, control API, `cti`."""
