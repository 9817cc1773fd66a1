"""Documents the service renders for applicants to print (employer-proof templates)."""

from documents.proof_templates import PROOF_TITLES, ProofKind, render_employer_proof

__all__ = ["PROOF_TITLES", "ProofKind", "render_employer_proof"]
