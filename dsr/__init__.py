"""dsr: dynamical-systems reconstruction with AL-RNNs, shallow PLRNNs and MixER."""

import logging

__version__ = "0.1.0"

# The library logs and never prints. Applications (the dsr command, a
# notebook) decide where the records go.
logging.getLogger(__name__).addHandler(logging.NullHandler())
