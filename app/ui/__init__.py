"""The web dashboard: static HTML, CSS and JavaScript modules that use only /graphql."""
