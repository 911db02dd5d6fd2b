"""Pure evaluation of AWS network rules: security groups, ACLs, routes, address and port intervals."""
