"""Product ideas: threads in an ideas space, voted for by members and given a status by staff (``ideas``)."""
