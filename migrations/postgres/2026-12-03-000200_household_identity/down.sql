DROP TABLE household_identity;
