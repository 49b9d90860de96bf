"""Supply-chain evidence attached to an image: signatures, vulnerability reports, provenance
and SBOMs, checked against the image's digest, summarised for CEL conditions (issue 20)."""
