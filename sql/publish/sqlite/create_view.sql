CREATE VIEW {name} AS {body}
