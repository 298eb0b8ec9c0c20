"""Other engines behind the same result type: PHCpack (``phc -b`` and phcpy)."""
