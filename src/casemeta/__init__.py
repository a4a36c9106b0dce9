"""casemeta: reproducible case-survey coding and meta-analysis."""


def __getattr__(name: str):
    """`__version__`, looked up when first asked for: importlib.metadata costs every process that imports the
    package about 14 ms, and each workflow job's launcher imports it without needing the version."""
    if name != "__version__":
        raise AttributeError(f"module 'casemeta' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("casemeta")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
