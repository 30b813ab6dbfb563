"""Calls to a business's own systems that rules ask for ("call integration ...")."""
