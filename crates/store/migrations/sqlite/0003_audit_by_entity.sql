-- Finding the newest change of a kind of entity (the plan's version) by index.
CREATE INDEX audit_by_entity ON audit_log (entity, id);
