"""The policy documents' workflows as pages anyone signed in can read (`routes`)."""
