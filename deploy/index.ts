// Placeholder: the Pulumi program that deploys the Config rule lands with its issue.
export {};
