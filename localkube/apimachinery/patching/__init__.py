"""PATCH implementation split by job; ``localkube.apimachinery.patch`` is the public facade."""
