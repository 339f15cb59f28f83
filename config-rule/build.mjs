// Placeholder: bundles the Config rule Lambda (lands with its issue).
