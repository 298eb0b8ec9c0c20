"""Start systems: total degree, linear product (set structures) and polyhedral (phcpy)."""
