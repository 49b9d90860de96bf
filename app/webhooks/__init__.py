"""Event webhooks (issue 17 item 3): what happens in Hoist, POSTed to the endpoints a
super-admin registered, as signed CloudEvents, at least once."""
