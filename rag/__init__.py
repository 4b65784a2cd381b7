"""paperchat: retrieval-augmented Q&A over ML paper abstracts with verified citations.

Importing this package does no work: models, clients and indexes are created by
factories from a :class:`rag.settings.Settings` object when first needed.
"""

__version__ = "0.1.0"
