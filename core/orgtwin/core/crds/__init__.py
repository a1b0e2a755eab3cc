"""CRD models and the generator that turns them into CustomResourceDefinitions."""
