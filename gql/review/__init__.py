"""The finance bureau's review: the queue, approve or return with reasons, the full record."""
