"""Publishing rankings: ORM rows → arrays → ``ratings`` → snapshot rows, page and JSON."""
