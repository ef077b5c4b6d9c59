"""IAM: policies, later identities, STS, MFA, audit."""
