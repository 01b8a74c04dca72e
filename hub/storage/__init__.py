"""The hub's own database. Importing the package registers every table on `HubBase` (the documents' tables
live in their own module), so `hub_engine` creates them all."""

from hub.storage import documents as documents
