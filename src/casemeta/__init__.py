"""casemeta: reproducible case-survey coding and meta-analysis."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("casemeta")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
