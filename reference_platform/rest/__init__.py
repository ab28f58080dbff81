"""The REST layer (CONTRACT sections 1 to 3): routes, request bodies, the caller, errors."""
