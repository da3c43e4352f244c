"""Features that read the network: ``transform`` and its feature names.

Both estimators are predictors that also transform, as scikit-learn's
``LinearDiscriminantAnalysis`` and ``KMeans`` are: ``transform`` gives the
last hidden layer's activations, ``get_feature_names_out`` names them
(``cgmlpclassifier0``, ...) and ``set_output`` picks their container. The
face's own mixin (``ClassifierMixin``, ``RegressorMixin``) comes first in
its bases, so the estimator stays a classifier or a regressor.
"""

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin


class HiddenFeaturesMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform``: the forward pass of ``predict`` (the estimator's
    ``_forward``) stopped at the last hidden layer."""

    def transform(self, X):
        """The last hidden layer's activations: features learned by the network.

        The forward pass of ``predict``, stopped before the output layer. The
        result can feed another model, be plotted, or be clustered.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            The activations of the last hidden layer, in the dtype
            ``predict`` computes in (float32 for a float32 model and float32
            ``X``), where ``X`` lives: a NumPy array for in-memory data, an
            array of ``X``'s namespace under array API dispatch, a lazy Dask
            array for Dask data. With ``set_output(transform="pandas")``, a
            DataFrame whose columns ``get_feature_names_out`` names.
        """
        hidden, _, _ = self._forward(X, "transform", output=False)
        return hidden

    @property
    def _n_features_out(self):
        """Width of the last hidden layer (for ``get_feature_names_out``)."""
        return self.coefs_[-1].shape[0]

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        Predictions are not affected: they stay arrays.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            "default": the default output (arrays where ``X`` lives);
            "pandas" or "polars": a DataFrame whose columns
            ``get_feature_names_out`` names; None leaves the configuration
            unchanged.

        Returns
        -------
        self : estimator instance
            The estimator.
        """
        return super().set_output(transform=transform)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # float32 data is fitted and transformed in float32.
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
