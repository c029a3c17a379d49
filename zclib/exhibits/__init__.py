"""The logic behind each paper exhibit, one module per notebook, named for it.

    from zclib.exhibits import spearman_nb201      # notebook 01
    tabs, fish = spearman_nb201.load(["cifar10"], n_archs=None, fisher_n=None)

A notebook sets its parameters, calls these functions and shows what they return;
everything a reader need not see to follow the exhibit (table layout, the notes
each recorded number carries) lives here, where it is linted and tested.
"""
