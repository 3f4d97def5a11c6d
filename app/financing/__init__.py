"""Financing: the enterprise's intended banks, each bank's own progress (interest, credit,
contract, drawdowns) and loans with their relending and subsidy figures, the bank
marketplace and the loan book (`operations`, `routes`). The steps themselves — claims,
designation, contracts, loans, refinancing — are workflow triggers with their effects.
"""
