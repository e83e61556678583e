"""IVR: YAML flow files, async scripts, prompts and the offline simulator."""
