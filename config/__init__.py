"""Configuration and logging: the ground every other package stands on."""
