"""The HTTP front: the app factory, the dispatcher, the WSGI/RSGI servers and the ``runagents-mock`` CLI."""
