"""URLconfs per host kind (see ``smarter/hosts.py``) and the patterns they share."""
