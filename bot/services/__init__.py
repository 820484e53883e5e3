"""The use cases: the guide service and its effect appliers, procedures, clinics, staff,
imports, the reminder dispatcher and the Sender it sends through."""
