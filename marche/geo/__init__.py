"""Territories: communes, departments, regions, ZRR; territory references and coverage (shapely)."""
