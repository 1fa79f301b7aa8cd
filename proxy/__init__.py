"""prospect-relay: an SMTP relay that keeps commercial email prospecting legal in the EU."""

__version__ = "0.1.0"
