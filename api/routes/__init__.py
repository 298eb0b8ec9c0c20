"""The endpoints, one router per resource: :mod:`.solve`, :mod:`.jobs`, :mod:`.families`, :mod:`.ops`."""
