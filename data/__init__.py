"""Sample data shipped with dealgraph: the deals of the seed article, each row sourced."""
