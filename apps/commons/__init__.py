"""Public-interest statistics across consenting pods under a data protection authority
(issue 23): studies signed by the authority, owners' agents contributing secret shares,
two aggregators (broker and authority) adding discrete noise, RDF Data Cube results."""
