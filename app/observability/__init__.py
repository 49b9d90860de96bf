"""What Hoist tells its operators about itself: metrics, traces and log lines."""
