"""mlplane's domain: pure value types (`domain.types`) and async services (`domain.services`)."""
