"""Mail texts per campaign: which texts a lead administrator may reword, checking and
previewing a draft with its sample values, saving and resetting it, and the pages."""
