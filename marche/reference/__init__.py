"""Catalogues shared by several domains: sectors (20 groups, 154 sectors), CPV 2008, NAF rév. 2."""
