-- A password someone else chose or saw (the first administrator's, a reset one) must be
-- replaced before its holder may do anything but change it.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT 0;
