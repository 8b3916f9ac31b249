"""The Access Grants API (Inrupt's SDKs): Verifiable Credentials over the consent model."""
