"""Delivery insights: lead time, promotion outcomes, approval wait, skipped stages and
rollbacks per week, computed in SQL over the promotion and deployment records."""
