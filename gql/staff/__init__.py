"""Staff administration (PROVINCE) and a staff member's own password."""
