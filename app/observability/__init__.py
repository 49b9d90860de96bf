"""What Hoist tells its operators about itself: metrics (and, beside them, traces and logs)."""
