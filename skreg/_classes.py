"""MLPClassifier and MLPRegressor: target encoding, loss choice, predictions."""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMLP
from ._layers import Context
from ._losses import LOSSES, LabelSmoothing
from ._warnings import warn
from .utils._sklearn_compat import Interval, StrOptions, _fit_context

_OBJECTIVE_DOC = r"""
    **Training objective.** With the network :math:`f_W`, sample weights
    :math:`s_i` (all ones by default, multiplied by the class weights if any)
    and the weight matrices :math:`W` (``coefs_``; biases and batch-norm
    parameters are never penalized), training minimizes

    .. math::

        J(W) = \frac{\sum_i s_i\, \ell(y_i, f_W(x_i))}{\sum_i s_i}
               + \alpha \Big(\rho \lVert W \rVert_1
               + \tfrac{1 - \rho}{2} \lVert W \rVert_2^2\Big)

    with :math:`\alpha` = ``alpha`` and :math:`\rho` = ``l1_ratio``: the
    ElasticNet penalty of Zou & Hastie (2005), in the parametrization of
    :class:`sklearn.linear_model.ElasticNet`. The stochastic solvers estimate
    the data term on each mini-batch :math:`B` with weights
    :math:`s_i / \sum_{j \in B} s_j` (a batch whose weights are all zero is
    skipped); the penalty is *not* divided by the batch size, so the objective
    does not depend on ``batch_size`` and integer sample weights are
    equivalent to repeated rows. The smooth L2 part enters the gradient; the
    L1 part is applied after each optimizer step as a proximal soft-threshold
    ``w <- sign(w) max(|w| - eta * alpha * l1_ratio, 0)``, where ``eta`` is the
    step the optimizer takes per unit of a steady gradient
    (``learning_rate / (1 - momentum)`` for SGD, whose momentum multiplies a
    steady step by that factor; for Adam, per coordinate,
    ``learning_rate_init sqrt(1 - beta_2^t) / (sqrt(v) + epsilon)``, since
    its biased first moment of a steady gradient is ``(1 - beta_1^t)`` times
    it). Weights that do not matter therefore become exactly ``0.0``. ``solver='lbfgs'``
    minimizes :math:`J` on the full batch and refuses ``l1_ratio > 0`` (with
    ``alpha > 0``).

    Mapping from scikit-learn: its MLP adds
    :math:`\frac{\alpha_{sk}}{2 n_B} \lVert W \rVert_2^2` to the mean loss of
    each batch of :math:`n_B` rows, so ``alpha = alpha_sklearn / n_B`` with
    ``l1_ratio=0`` reproduces its penalty (``n_B`` = ``batch_size``, or the
    number of samples for lbfgs). skreg does not divide by the batch size so
    that ``alpha`` keeps its meaning when ``batch_size`` or the sample
    weights change. This holds for one output: with several regression
    outputs scikit-learn's gradient sums the outputs' terms where skreg's
    (like both libraries' squared-error loss) averages them.

    ``weight_decay`` (decoupled weight decay) is not part of :math:`J`: it
    shrinks the weights inside each optimizer step, so ``loss_curve_`` does
    not include it.

    Dropout, DropConnect and input noise make :math:`f_W` random during
    training: the stochastic solvers then minimize the expectation of
    :math:`J` over the masks and the noise.
"""

_PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu', 'gelu', 'silu', \
'mish', 'selu'}, default='relu'
        Activation of the hidden layers. Besides scikit-learn's four:
        'gelu', ``x Phi(x)`` with the standard normal CDF ``Phi`` (Hendrycks
        & Gimpel, 2016), in its exact erf form, PyTorch's and Keras' default,
        so that models match theirs (their tanh approximation, within 5e-4
        of it, runs 2.8x faster on the activation itself in float32, where
        numpy vectorizes tanh and not erf, but still costs more than 10 % of
        a training step, see benchmarks/results/recipe_step.md); 'silu',
        ``x sigmoid(x)`` (Elfwing et al., 2018); 'mish',
        ``x tanh(softplus(x))`` (Misra, 2019); 'selu', the scaled exponential
        linear unit of Klambauer et al. (2017), with which every weight
        layer is initialized LeCun-normal (``N(0, 1 / n_in)`` weights, zero
        biases) instead of Glorot-uniform, as self-normalization needs.

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        'adam' (Kingma & Ba, 2015), 'sgd' with (Nesterov) momentum, or
        scipy's 'lbfgs' (full batch, deterministic regularizers only).

    alpha : float, default=0.0001
        Strength of the ElasticNet penalty on the weights, >= 0. Not divided
        by the batch size, unlike scikit-learn's MLP: see "Training objective".

    l1_ratio : float, default=0.0
        Share of L1 in the penalty, in [0, 1]: 0 is ridge (L2, weight decay),
        1 is lasso (L1, exact zeros), in between ElasticNet.

    batch_size : int or 'auto', default='auto'
        Mini-batch size of the stochastic solvers; 'auto' is
        ``min(200, n_samples)``. Ignored by lbfgs.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine', \
            'one_cycle', 'coslog4'}, default='constant'
        Learning-rate schedule. scikit-learn's three schedule solver='sgd'
        only, per epoch, as in scikit-learn: 'constant' keeps
        ``learning_rate_init``; 'invscaling' sets it to
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch (``t`` the
        samples seen); 'adaptive' divides it by 5 whenever patience runs out
        (``tol``, ``n_iter_no_change``) instead of stopping, until it is at
        most 1e-6. The other three schedule 'sgd' and 'adam' at every step,
        over a run of ``max_iter`` epochs, with ``learning_rate_init`` as the
        peak:

        - 'cosine': cosine decay from ``learning_rate_init`` to 0 (Loshchilov &
          Hutter, 2017; PyTorch's ``CosineAnnealingLR``);
        - 'one_cycle': a cosine rise from 1/25 of the peak over the first 30 %
          of the run, then a cosine fall to 1/10,000 of that start (Smith &
          Topin, 2019, with PyTorch's ``OneCycleLR`` defaults; momentum is not
          cycled);
        - 'coslog4': RealMLP's four cosine cycles from 0 to the peak and back,
          each twice as long as the one before, ``(1 - cos(2 pi log2(1 +
          15 t))) / 2`` at the run's progress ``t`` in [0, 1] (Holzmueller et
          al., 2024).

        These are defined over ``max_iter`` epochs, so reaching ``max_iter`` is
        the plan and raises no ConvergenceWarning. Early stopping and the
        training-loss patience still apply and may end the run before the
        schedule ends (the schedule does not adapt to them): to run it to its
        end, set ``n_iter_no_change=np.inf`` (with ``early_stopping=True`` the
        best validation epoch is then kept, as RealMLP does). ``partial_fit``
        counts each call as one epoch of the schedule, continuing from the
        ``fit`` or calls before it, and past ``max_iter`` calls trains at the
        schedule's final rate (with a warning). Each ``fit``, also with
        ``warm_start=True``, starts the schedule anew (a warm restart).

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam' (the peak of 'cosine',
        'one_cycle' and 'coslog4').

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Whether to shuffle the rows at each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds independent random streams for weight initialization, the
        validation split, the batch order and the dropout masks and noise,
        so that switching dropout on changes neither the initial weights nor
        the batch order. Pass an int for reproducible results.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress; when more
        than ``n_iter_no_change`` such epochs follow the best one, training
        stops. It only decides when patience runs out: with early stopping
        the weights kept are those of the best validation epoch
        (``restore_best_weights``), otherwise those of the last epoch, as in
        scikit-learn. Without early stopping, the loss compared is the
        epoch's training loss, as in scikit-learn, unless dropout,
        DropConnect, ``input_dropout`` or ``input_noise`` is on: their random
        masks make that loss noisy enough to meet ``tol`` by chance, so
        patience then counts on the training objective of the network
        without masks or noise (the one ``predict`` uses), computed after
        each epoch on the training rows (at most 2,048 of them, evenly
        spaced: a prediction pass). ``loss_curve_`` keeps the epoch losses.

    verbose : bool or int, default=False
        Print one line per epoch: training loss, validation loss and score,
        seconds.

    warm_start : bool, default=False
        Reuse the previous solution as initialization of the next ``fit``.
        Each fit starts its own early-stopping patience and best validation
        score (scikit-learn's MLP carries them over from the previous fit).

    momentum : float, default=0.9
        Momentum of solver='sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with solver='sgd'.

    early_stopping : bool or 'auto', default=False
        Validation-based early stopping (Prechelt, 1998): hold out
        ``validation_fraction`` of the training data (stratified for
        classifiers when every class can appear on both sides), or use the
        ``X_val``/``y_val`` passed to ``fit``; stop when the validation score
        has not improved by ``tol`` for ``n_iter_no_change`` epochs, and keep
        the weights of the best epoch (``restore_best_weights``). 'auto'
        turns it on when n_samples > 10,000 or when ``X_val`` is passed, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. Ignored by
        lbfgs. When the split would leave fewer than 2 rows on either side,
        a warning says so and the fit runs without early stopping.

    scoring : str or callable, default='loss'
        What early stopping monitors: 'loss' (the validation loss, score is
        its negative) or any scikit-learn scorer name or callable
        ``scorer(estimator, X, y)``.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping, in [0, 1).
        0 holds out nothing: 'auto' then leaves early stopping off, and with
        ``early_stopping=True`` but no ``X_val``/``y_val`` a warning says so
        and the fit runs without early stopping.

    restore_best_weights : bool, default=True
        With early stopping, end with the weights (and batch-norm statistics)
        of the epoch with the best validation score, ``best_iteration_``.

    beta_1 : float, default=0.9
        Adam's decay rate of the first moment, in [0, 1).

    beta_2 : float, default=0.999
        Adam's decay rate of the second moment, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Patience: training stops at the ``n_iter_no_change + 1``-th epoch in a
        row without an improvement of ``tol`` (as in scikit-learn).

    max_fun : int, default=15000
        Maximum number of loss evaluations of lbfgs.

    dropout : float or sequence of float, default=0.0
        Dropout rate of the hidden units (Srivastava et al., 2014), one rate
        for all hidden layers or one per hidden layer, each in [0, 1). In
        training each unit of each sample is zeroed with that probability and
        the survivors are scaled by ``1 / (1 - rate)`` (inverted dropout), so
        prediction uses the network as it is, without masks. Masks are drawn
        from 16-bit random integers, so the drop probability is the rate
        rounded up to a multiple of 2**-16 (within 1.6e-5 of it).

    input_dropout : float, default=0.0
        Dropout rate of the input features, in [0, 1), same scheme.

    dropconnect : float or sequence of float, default=0.0
        DropConnect rate (Wan et al., 2013), one for all weight layers or one
        per weight layer (hidden layers and the output layer): in training,
        each *weight* is dropped independently for each mini-batch and the
        kept ones scaled by ``1 / (1 - rate)``; prediction uses the expected
        weights, i.e. ``coefs_`` themselves (the paper's mean-network
        inference; its moment-matching sampling at test time is not used).
        ``dropconnect_mask`` says whether each example or each mini-batch
        draws its mask.

    dropconnect_mask : {'batch', 'sample'}, default='batch'
        How DropConnect masks are drawn. 'sample': one mask per example, as
        Wan et al. (2013) define it, so each example of a mini-batch sees its
        own network. 'batch': one mask for the whole mini-batch (as common
        implementations do), which keeps the layer one matrix product; its
        noise is more correlated within a batch. 'batch' is the default for
        speed: 'sample' multiplies a (rows, inputs, outputs) mask into the
        weights and holds it (one byte per row and weight) until the
        backward pass. Measured side by side (benchmarks/README.md): on
        MNIST's 784-100-10 network (10,000 rows, 20 epochs) 'sample' takes
        5.5x the plain network's time per epoch, 'batch' about 1x, and
        'sample' reaches 0.938 test accuracy against 0.928; on digits'
        64-100-10 network 'sample' takes 14x the time of 'batch' (its
        per-row work weighs more beside small products); on 300 separable
        blob points both reach training accuracy 1.0 with the defaults.

    batch_norm : bool or sequence of bool, default=False
        Batch normalization (Ioffe & Szegedy, 2015) of each hidden layer's
        pre-activations, for all hidden layers or per hidden layer. Training
        normalizes with the (sample-weighted) statistics of the mini-batch
        and updates running statistics; prediction uses the running
        statistics, so each row is predicted on its own. A dense layer
        feeding batch norm has no bias (batch norm's shift replaces it).

    batch_norm_momentum : float, default=0.1
        Weight of the current batch in the running statistics,
        ``running = (1 - m) * running + m * batch`` (PyTorch's convention;
        Keras' ``momentum`` is ``1 - m``), in (0, 1]. Ignored by lbfgs, whose
        running statistics are those of its last full-batch pass.

    max_norm : float or None, default=None
        After each step, rescale each hidden unit's incoming weight vector (a
        column of ``coefs_[i]``, hidden layers) to an L2 norm of at most this
        (Srivastava et al., 2014). None disables it. Only with 'adam' and
        'sgd': lbfgs refuses it.

    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the inputs in training
        only, a data augmentation for tabular data (Bishop, 1995). Scale the
        inputs first (e.g. StandardScaler) so that one value fits all.

    dtype : {'auto', 'float32', 'float64'}, default='auto'
        Precision of training with 'adam' and 'sgd'. 'auto' trains in float32
        where it pays, i.e. when X is float32 or has more than 1,000 rows
        (float32 matrix products run about twice as fast), and in float64
        otherwise, where the cost is per-call overhead and float64 keeps
        results exact to scikit-learn's tolerances. lbfgs always runs in
        float64 (scipy's L-BFGS-B does). Predictions are computed in float64
        from the fitted weights whatever the training precision, so they do
        not depend on how rows are batched, and returned in X's float dtype
        (float32 for float32 X, as scikit-learn's MLP).

    blas_threads : 'auto', int or None, default='auto'
        BLAS threads for training with 'adam' and 'sgd' when ``fit`` runs in
        the main thread. OpenBLAS threads spin while they wait for each
        other, so when another process holds a core a fit with several
        threads can run tens of times slower than with one. 'auto' trains
        networks below 10 million multiply-adds per mini-batch with one
        thread; larger ones time a few steps with one thread and with the
        process's count, keep the faster and time again when steps slow
        down. Since the thread count changes how float32 products are
        summed, 'auto' on a large network can give slightly different
        models from run to run; an int fixes the count for the whole fit
        (bit for bit reproducible), and None leaves the process's BLAS
        settings alone (as do fits run from worker threads, whose BLAS pool
        is shared).

    numeric_embedding : {'pbld'} or None, default=None
        Embed each numeric input feature before the first hidden layer
        (Gorishniy et al., 2022), in RealMLP's 'pbld' variant (Holzmueller
        et al., 2024): feature ``x_j`` becomes
        ``[cos(2 pi w_j x_j + b_j) @ V_j + c_j, x_j]``, ``n_frequencies``
        learned frequencies ``w_j`` and phases ``b_j``, a learned
        ``n_frequencies x 3`` map ``V_j`` and offset ``c_j`` of its own, and
        the raw value appended, so the first dense layer sees
        ``4 * n_features`` inputs (``coefs_[0]`` has that many rows: the 3
        learned values of each feature in turn, then the raw features).
        Initialization as RealMLP's: ``w ~ N(0, frequency_init_scale^2)``,
        ``b ~ U[-pi, pi]``, ``V`` and ``c`` uniform on
        ``[-1/sqrt(k), 1/sqrt(k)]``. ``alpha`` penalizes ``V`` like the dense
        weights; frequencies, phases and offsets, like biases, are not
        penalized, and ``max_norm`` does not apply to the embedding. RealMLP
        trains all the embedding's parameters at a tenth of the learning
        rate; skreg trains them at the network's.
        Input noise and input dropout act on the raw features, before the
        embedding. Meant for scaled inputs (e.g.
        :class:`SmoothClippedRobustScaler` or StandardScaler), since the
        frequencies' scale is relative to the features'. The fitted
        embedding is ``embedding_params_``. None (the default) feeds the
        features to the first dense layer as they are.

    n_frequencies : int, default=16
        Number ``k`` of frequencies per feature of ``numeric_embedding``
        (RealMLP's 16; Gorishniy et al.'s ``n_frequencies``).

    frequency_init_scale : float, default=0.1
        Standard deviation ``sigma`` of the initial frequencies of
        ``numeric_embedding``, > 0 (RealMLP's 0.1; Gorishniy et al. tune it
        per dataset and call it "an important hyperparameter"): larger values
        start from higher-frequency functions of the features.

    warmup_fraction : float, default=0.0
        Linear learning-rate warmup (Goyal et al., 2017) over this share of
        the ``max_iter`` epochs, in [0, 1): the rate of every schedule is
        multiplied by the share of the warmup done after each step, so it
        rises from nearly 0 to its scheduled value, step by step. 0 turns it
        off. Counted like the schedules (see ``learning_rate``), for 'sgd' and
        'adam'; ignored by lbfgs.

    weight_decay : float, default=0.0
        Decoupled weight decay (Loshchilov & Hutter, 2019; AdamW, and SGDW with
        solver='sgd'), >= 0: before each step every weight (``coefs_``; not
        the biases or batch-norm parameters, as ``alpha``) is multiplied by
        ``1 - rate * weight_decay``, ``rate`` the step's learning rate
        (``learning_rate_init`` times the schedule's factor, as PyTorch's and
        Keras' AdamW). Unlike ``alpha``'s L2 penalty it is not part of the
        gradient, so Adam does not rescale it: every weight shrinks by the
        same fraction whatever its gradients' history, and the decay follows
        the learning-rate schedule. Use ``weight_decay`` with Adam (its
        authors found it generalizes better than L2 and makes the best decay
        independent of the learning rate); use ``alpha`` for a penalty that is
        part of the objective: with lbfgs (which refuses ``weight_decay``), for
        L1 or ElasticNet, or when ``loss_curve_`` should include it. With
        plain SGD (no momentum) the two coincide for ``weight_decay = alpha``.

    max_grad_norm : float or None, default=None
        Gradient clipping by the global norm (Pascanu et al., 2013; PyTorch's
        ``clip_grad_norm_``, Keras' ``global_clipnorm``): before each step,
        the gradient of the data term over all parameters is scaled down to
        an L2 norm of at most ``max_grad_norm`` (the direction is kept; the
        penalty's gradient is added after). None disables it. Only with
        'adam' and 'sgd': lbfgs refuses it.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        The objective (data term plus penalty) at the last epoch.

    best_loss_ : float or None
        The lowest training objective reached; None when early stopping
        monitors a validation set.

    loss_curve_ : list of float
        The training objective per epoch (per iteration for lbfgs).

    validation_loss_curve_ : list of float or None
        The validation loss per epoch, when the last ``fit`` monitored a
        validation set; None otherwise (``partial_fit`` monitors none). Its
        entries are the last epochs of ``loss_curve_``: a warm start extends
        both, after a fit without validation the validation curve starts
        anew.

    validation_scores_ : list of float or None
        The validation score per epoch (``scoring``; with the default 'loss',
        the negative validation loss, where scikit-learn's MLP stores accuracy
        or R^2), aligned as ``validation_loss_curve_``.

    best_validation_score_ : float or None
        The best validation score of the last ``fit`` (after a divergence,
        that of the weights kept, when they beat every epoch); None when it
        monitored no validation set.

    best_iteration_ : int or None
        The epoch (1-based, counted in ``loss_curve_``) whose weights were
        kept by early stopping; None without it.

    t_ : int
        Number of training samples seen by the solver.

    coefs_ : list of ndarray of shape (n_units_in, n_units_out)
        The weight matrices; ``coefs_[i][:, j]`` is unit j's incoming weights.

    intercepts_ : list of ndarray of shape (n_units_out,)
        The bias vectors (zeros for a layer followed by batch norm).

    batch_norm_params_ : list of dict or None
        Per hidden layer, None or the batch-norm arrays ``gamma``, ``beta``,
        ``running_mean`` and ``running_var``.

    embedding_params_ : dict or None
        With ``numeric_embedding``, the embedding's arrays: ``frequencies``
        and ``phases`` of shape (n_features_in_, n_frequencies), ``coef`` of
        shape (n_features_in_, n_frequencies, 3) and ``intercept`` of shape
        (n_features_in_, 3); None without it.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.

    n_iter_ : int
        Number of epochs (iterations for lbfgs) run by the last fit call.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation.
"""

_NOTES_DOC = """
    Notes
    -----
    Speed. With the optional numba kernels installed (the ``fast`` extra),
    networks of at least 100,000 parameters run the optimizer step, masks,
    ReLU and batch norm's elementwise work as compiled loops, bit for bit
    equal to the numpy path. Networks whose matrix products in a
    mini-batch's forward pass stay below 2 million multiply-adds (say 64
    features, 100 hidden units, batch 200), fitted with 'adam' or 'sgd' from
    the main thread, train with one BLAS thread through threadpoolctl: two
    threads gain at most a few percent there on an idle machine and lose up
    to 3x when other work shares the cores. The BLAS thread pool is
    process-wide, so other threads' BLAS calls run on one thread too while
    such a fit runs; the setting is restored when it ends. Fits from worker
    threads leave the BLAS as it is.

    DropConnect's two forms (``dropconnect_mask``), measured side by side
    with ``benchmarks/dropconnect_forms.py`` (rate 0.5, other parameters at
    their defaults): on 300 standardized, well-separated ``make_blobs``
    points both one mask per example ('sample', Wan et al.'s) and one per
    mini-batch ('batch') reach training accuracy 1.0 with 3 seeds; on a
    reduced MNIST run (10,000 training rows, hidden (100,), 20 epochs) they
    reach 0.938 and 0.928 test accuracy, 'sample' at 5.5x the time per epoch
    of the plain network and 'batch' at about 1x. With either, and with
    dropout or noise, patience counts on the loss of the network without
    masks (see ``tol``), so their noise does not end training early.
"""

_REFERENCES_DOC = """
    References
    ----------
    Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and
    Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural networks
    from overfitting. JMLR 15, 1929-1958.

    Wan, L., Zeiler, M., Zhang, S., LeCun, Y. and Fergus, R. (2013).
    Regularization of neural networks using DropConnect. ICML.

    Ioffe, S. and Szegedy, C. (2015). Batch normalization: accelerating deep
    network training by reducing internal covariate shift. ICML.

    Zou, H. and Hastie, T. (2005). Regularization and variable selection via
    the elastic net. JRSS B 67(2), 301-320.

    Prechelt, L. (1998). Early stopping - but when? Neural Networks: Tricks of
    the Trade, 55-69.

    Kingma, D. and Ba, J. (2015). Adam: a method for stochastic optimization.
    ICLR.

    Gal, Y. and Ghahramani, Z. (2016). Dropout as a Bayesian approximation.
    ICML.

    Hendrycks, D. and Gimpel, K. (2016). Gaussian error linear units (GELUs).
    arXiv:1606.08415.

    Elfwing, S., Uchibe, E. and Doya, K. (2018). Sigmoid-weighted linear
    units for neural network function approximation in reinforcement
    learning. Neural Networks 107, 3-11.

    Misra, D. (2019). Mish: a self regularized non-monotonic activation
    function. arXiv:1908.08681.

    Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S. (2017).
    Self-normalizing neural networks. NeurIPS.

    Gorishniy, Y., Rubachev, I. and Babenko, A. (2022). On embeddings for
    numerical features in tabular deep learning. NeurIPS.

    Szegedy, C., Vanhoucke, V., Ioffe, S., Shlens, J. and Wojna, Z. (2016).
    Rethinking the Inception architecture for computer vision. CVPR.

    Holzmueller, D., Grinsztajn, L. and Steinwart, I. (2024). Better by
    default: strong pre-tuned MLPs and boosted trees on tabular data.
    NeurIPS.
    Loshchilov, I. and Hutter, F. (2017). SGDR: stochastic gradient descent
    with warm restarts. ICLR.

    Loshchilov, I. and Hutter, F. (2019). Decoupled weight decay
    regularization. ICLR.

    Smith, L. N. and Topin, N. (2019). Super-convergence: very fast training
    of neural networks using large learning rates. SPIE 11006.

    Goyal, P. et al. (2017). Accurate, large minibatch SGD: training ImageNet
    in 1 hour. arXiv:1706.02677.

    Pascanu, R., Mikolov, T. and Bengio, Y. (2013). On the difficulty of
    training recurrent neural networks. ICML.
"""


class _MCDropoutMixin:
    """Monte Carlo dropout: stochastic forward passes at prediction time."""

    def _has_prediction_masks(self):
        check_is_fitted(self)
        architecture = self._fitted_architecture
        return bool(
            any(architecture["dropout"])
            or any(architecture["dropconnect"])
            or architecture["input_dropout"] > 0
        )

    def sample_predictions(self, X, n_samples=30, random_state=None):
        """Stochastic predictions with dropout and DropConnect masks on.

        Monte Carlo dropout (Gal & Ghahramani, 2016): each pass draws fresh
        dropout and DropConnect masks, while batch norm uses its running
        statistics and no input noise is added, as at prediction time. Their
        spread approximates the model's uncertainty.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        n_samples : int, default=30
            Number of stochastic passes (draws, as ``n_samples`` of
            :meth:`sklearn.gaussian_process.GaussianProcessRegressor.sample_y`;
            not the number of rows of X).
        random_state : int, RandomState instance or None, default=None
            Seeds the masks.

        Returns
        -------
        samples : ndarray of shape (n_samples, n_rows, ...)
            The ``n_samples`` passes over the ``n_rows`` rows of X stacked
            on a new first axis, each shaped like
            ``predict_proba(X)`` (classifier) or ``predict(X)`` (regressor).
        """
        if not (
            isinstance(n_samples, Integral)
            and not isinstance(n_samples, bool)
            and n_samples >= 1
        ):
            raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}.")
        network = self._prediction_network()
        X, dtype = self._validated_input(X)
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        ctx = Context(training=False, rng=rng, mc_dropout=True)
        passes = [
            self._sample_from_output(network.forward(X, ctx)[0], dtype=dtype)
            for _ in range(int(n_samples))
        ]
        return np.stack(passes)


class MLPClassifier(ClassifierMixin, _MCDropoutMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier with a regularization toolkit.

    A drop-in superset of :class:`sklearn.neural_network.MLPClassifier`: the
    same parameters, methods and fitted attributes, plus ElasticNet (L1/L2)
    penalties, dropout, DropConnect, batch normalization, max-norm, input
    noise and validation-based early stopping as plain parameters that
    :class:`~sklearn.model_selection.GridSearchCV` can tune. Pure numpy.

    The output layer is a logistic unit per label (binary and multilabel
    targets, summed binary log loss) or a softmax (multiclass, cross-entropy).
{_OBJECTIVE_DOC}
    Parameters
    ----------
{_PARAMETERS_DOC}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into the sample weights:
        ``{{label: weight}}``, or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))``, where the counts are
        sums of ``sample_weight`` when it is given (so that a weight of k
        stays equivalent to k repeated rows). 'balanced' is not available
        with ``partial_fit``, which sees one chunk at a time.

    label_smoothing : float, default=0.0
        Label smoothing (Szegedy et al., 2016), in [0, 1): training fits the
        targets ``(1 - label_smoothing) * y + label_smoothing / K``, with
        ``K`` the number of classes for multiclass targets (softmax output)
        and ``K = 2`` for each logistic output of binary and multilabel
        targets (the conventions of PyTorch's ``CrossEntropyLoss`` and Keras'
        ``BinaryCrossentropy``). It discourages over-confident outputs: the
        probabilities that minimize the objective are the smoothed targets,
        so ``predict_proba`` (still a softmax or logistic of the outputs, a
        proper probability) stays below ``1 - label_smoothing + label_smoothing
        / K`` on training points. ``loss_curve_`` records the smoothed
        objective; the validation loss of early stopping and
        ``validation_loss_curve_`` are the plain log loss, so that early
        stopping keeps the epoch whose probabilities fit the real labels best.
        RealMLP (Holzmueller et al., 2024) uses 0.1.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels; for multilabel targets, the indices of the label
        columns.
{_ATTRIBUTES_DOC}
    See Also
    --------
    MLPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : The scikit-learn MLP that skreg extends.
{_NOTES_DOC}{_REFERENCES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skreg import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(32,), dropout=0.2, alpha=1e-3,
    ...                     max_iter=300, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }
    _y_numeric = False

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        l1_ratio=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring="loss",
        validation_fraction=0.1,
        restore_best_weights=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        input_dropout=0.0,
        dropconnect=0.0,
        dropconnect_mask="batch",
        batch_norm=False,
        batch_norm_momentum=0.1,
        max_norm=None,
        input_noise=0.0,
        dtype="auto",
        numeric_embedding=None,
        n_frequencies=16,
        frequency_init_scale=0.1,
        warmup_fraction=0.0,
        weight_decay=0.0,
        max_grad_norm=None,
        class_weight=None,
        label_smoothing=0.0,
        blas_threads="auto",
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            l1_ratio=l1_ratio,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            restore_best_weights=restore_best_weights,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            input_dropout=input_dropout,
            dropconnect=dropconnect,
            dropconnect_mask=dropconnect_mask,
            batch_norm=batch_norm,
            batch_norm_momentum=batch_norm_momentum,
            max_norm=max_norm,
            input_noise=input_noise,
            dtype=dtype,
            blas_threads=blas_threads,
            numeric_embedding=numeric_embedding,
            n_frequencies=n_frequencies,
            frequency_init_scale=frequency_init_scale,
            warmup_fraction=warmup_fraction,
            weight_decay=weight_decay,
            max_grad_norm=max_grad_norm,
        )
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    # targets -----------------------------------------------------------

    def _encode_targets(self, y, *, first_call, classes, source="fit"):
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        known = classes is not None and not multilabel
        if first_call:
            if known and len(classes) < 2:
                raise ValueError(
                    f"classes={np.asarray(classes).tolist()!r} must list at least 2 "
                    "classes: every class that may appear in any partial_fit call."
                )
            self._label_binarizer = LabelBinarizer()
            # indicator columns carry no labels to check: the binarizer learns
            # their count from y, as scikit-learn's does
            self._label_binarizer.fit(classes if known else y)
            self.classes_ = self._label_binarizer.classes_
        if known or (not first_call and not multilabel):
            self._check_known_classes(y, source)
        if first_call and y.ndim == 1 and len(self.classes_) < 2:
            only = np.asarray(self.classes_[0]).tolist()  # 0, not np.int64(0)
            raise ValueError(
                "MLPClassifier needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {only!r}. Check how y "
                "was built (a filter or a split that kept a single class)."
            )
        return self._one_hot(y)

    _UNSEEN_CLASS_HINTS = {
        "classes": "classes= of the first partial_fit call must list every class "
        "that may appear in any call",
        "partial_fit": "pass every class to the first partial_fit call with classes=",
        "fit": "warm_start=True keeps the classes of the first fit; set "
        "warm_start=False to fit on new classes",
        "validation": "y_val may only hold classes that occur in y",
    }

    def _check_known_classes(self, y, source):
        unseen = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unseen):
            name = "y_val" if source == "validation" else "y"
            raise ValueError(
                f"{name} has classes that are not in classes_ "
                f"{self.classes_.tolist()}: "
                f"{unseen.tolist()}; {self._UNSEEN_CLASS_HINTS[source]}."
            )

    def _one_hot(self, y):
        """Indicator targets in float32 (0 and 1 are exact in any float dtype).

        Built directly for multiclass targets: LabelBinarizer's int64 matrix and
        a float64 copy of it took 16 bytes per sample and class, 0.4x the
        size of a 1,000,000 x 100 float32 X with 10 classes, at the peak of fit.
        """
        binarizer = self._label_binarizer
        if binarizer.y_type_ == "multiclass" and y.ndim == 1:
            codes = np.searchsorted(self.classes_, y)
            codes = np.minimum(codes, len(self.classes_) - 1)
            if np.array_equal(self.classes_[codes], y):
                Y = np.zeros((len(y), len(self.classes_)), dtype=np.float32)
                Y[np.arange(len(y)), codes] = 1.0
                return Y
        return binarizer.transform(y).astype(np.float32)

    def _apply_class_weight(self, sample_weight, y):
        if self.class_weight is None:
            return sample_weight
        if self.class_weight == "balanced" and y.ndim == 1:
            # n_samples / (n_classes * count), with weighted counts so that a
            # weight of k stays equivalent to k repeated rows
            classes, codes = np.unique(y, return_inverse=True)
            counts = np.bincount(codes, weights=sample_weight)
            per_class = sample_weight.sum() / (
                len(classes) * np.maximum(counts, 1e-300)
            )
            return sample_weight * per_class[codes]
        return sample_weight * compute_sample_weight(self.class_weight, y)

    def _stratify_split(self, y):
        return y.ndim == 1

    def _loss_name(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "log_loss"
        return "binary_log_loss"

    def _training_loss(self):
        loss = super()._training_loss()
        if self.label_smoothing > 0:
            return LabelSmoothing(loss, self.label_smoothing)
        return loss

    # outputs -----------------------------------------------------------

    def _binary(self):
        return self._label_binarizer.y_type_ == "binary"

    def _proba_from_output(self, Z, dtype=None):
        """Probabilities from raw outputs, in ``dtype`` (default: Z's)."""
        if self._loss_name() == "log_loss":
            proba = softmax(Z, axis=1)
        elif self._binary():
            # expit(-z) rather than 1 - expit(z): no cancellation to 0.0
            proba = np.hstack([expit(-Z), expit(Z)])
        else:
            proba = expit(Z)
        proba = proba.astype(Z.dtype if dtype is None else dtype, copy=False)
        # keep every probability strictly inside (0, 1), so that its log is finite
        tiny = np.finfo(proba.dtype).tiny
        return np.clip(proba, tiny, np.nextafter(proba.dtype.type(1), 0))

    def _decode_output(self, Z, loss_name=None):
        if self._binary():
            Z = Z.ravel()
        # the positive class wins where its logit is positive, i.e. p > 0.5
        return self._label_binarizer.inverse_transform(Z, threshold=0.0)

    _sample_from_output = _proba_from_output

    def predict(self, X):
        """Predict class labels (label sets for multilabel targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        return self._decode_output(self._forward(X)[0])

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``; for
            multilabel targets, the probability of each label; float32 for
            float32 X, else float64.
        """
        return self._proba_from_output(*self._forward(X))

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates, computed stably from logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))`` without underflow to ``-inf``, in X's
            float dtype as ``predict_proba``.
        """
        Z, dtype = self._forward(X)
        return self._log_proba_from_output(Z).astype(dtype, copy=False)

    def _log_proba_from_output(self, Z):
        if self._loss_name() == "log_loss":
            return log_softmax(Z, axis=1)
        log_p = -np.logaddexp(0, -Z)
        if self._binary():
            return np.hstack([-np.logaddexp(0, Z), log_p])
        return log_p

    # training ----------------------------------------------------------

    def _partial_fit_available(self):
        if self.class_weight == "balanced":
            raise AttributeError(
                "partial_fit is not available with class_weight='balanced': it "
                "sees one chunk at a time. Compute the weights on the whole target "
                "with sklearn.utils.class_weight.compute_class_weight and pass them "
                "as a dict."
            )
        return self.solver != "lbfgs"

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            All the classes that may appear in the calls; required in the
            first call, ignored afterwards.

        Returns
        -------
        self : object
            The trained model.
        """
        with self._restored_on_error():
            first_call = _check_partial_fit_first_call(self, classes)
            if first_call and hasattr(self, "coefs_"):
                del self.coefs_
            return self._fit(
                X,
                y,
                sample_weight,
                incremental=True,
                classes=self.classes_ if first_call else None,
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _MCDropoutMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor with a regularization toolkit.

    A drop-in superset of :class:`sklearn.neural_network.MLPRegressor`: the
    same parameters, methods and fitted attributes, plus ElasticNet (L1/L2)
    penalties, dropout, DropConnect, batch normalization, max-norm, input
    noise, validation-based early stopping and Monte Carlo dropout
    uncertainty. Pure numpy.

    The output layer is affine (``loss='squared_error'``, per-sample loss
    ``0.5 * mean_k (f_k - y_k)^2``) or exponential (``loss='poisson'``,
    ``mean_k (exp(z_k) - y_k z_k)``, the half Poisson deviance up to a
    constant).
{_OBJECTIVE_DOC}
    Parameters
    ----------
    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        The data loss.
{_PARAMETERS_DOC}
    Attributes
    ----------
{_ATTRIBUTES_DOC}
    See Also
    --------
    MLPClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : The scikit-learn MLP that skreg extends.
{_NOTES_DOC}{_REFERENCES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skreg import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), dropout=0.1, max_iter=50,
    ...                    learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> mean, std = reg.predict(X[:2], return_std=True)
    >>> mean.shape, std.shape
    ((2,), (2,))
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
    _y_numeric = True

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        l1_ratio=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring="loss",
        validation_fraction=0.1,
        restore_best_weights=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        input_dropout=0.0,
        dropconnect=0.0,
        dropconnect_mask="batch",
        batch_norm=False,
        batch_norm_momentum=0.1,
        max_norm=None,
        input_noise=0.0,
        dtype="auto",
        blas_threads="auto",
        numeric_embedding=None,
        n_frequencies=16,
        frequency_init_scale=0.1,
        warmup_fraction=0.0,
        weight_decay=0.0,
        max_grad_norm=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            l1_ratio=l1_ratio,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            restore_best_weights=restore_best_weights,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            input_dropout=input_dropout,
            dropconnect=dropconnect,
            dropconnect_mask=dropconnect_mask,
            batch_norm=batch_norm,
            batch_norm_momentum=batch_norm_momentum,
            max_norm=max_norm,
            input_noise=input_noise,
            dtype=dtype,
            blas_threads=blas_threads,
            numeric_embedding=numeric_embedding,
            n_frequencies=n_frequencies,
            frequency_init_scale=frequency_init_scale,
            warmup_fraction=warmup_fraction,
            weight_decay=weight_decay,
            max_grad_norm=max_grad_norm,
        )
        self.loss = loss

    def _encode_targets(self, y, *, first_call, classes, source="fit"):
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "loss='poisson' needs non-negative targets, but y has negative "
                "values. Use loss='squared_error' or shift the targets."
            )
        return np.asarray(y, dtype=np.float64).reshape(len(y), -1)

    def _loss_name(self):
        return self.loss

    def _decode_output(self, Z, loss_name=None, dtype=None):
        """Predictions from raw outputs, by the fitted loss's inverse link
        (``loss_name`` overrides it while a fit runs), in ``dtype`` (default:
        Z's)."""
        loss_name = self._fitted_loss if loss_name is None else loss_name
        pred = LOSSES[loss_name]().inverse_link(Z)
        if dtype is not None:
            pred = pred.astype(dtype, copy=False)
        return pred.ravel() if pred.shape[1] == 1 else pred

    _sample_from_output = _decode_output

    def predict(self, X, return_std=False):
        """Predict using the multi-layer perceptron.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        return_std : bool, default=False
            Also return the standard deviation of Monte Carlo dropout passes
            (:meth:`sample_predictions` with 30 passes seeded by
            ``random_state``); the returned mean is then their mean. Without
            dropout or DropConnect the spread is zero, with a warning.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        y_std : ndarray of the same shape
            Only with ``return_std=True``.
        """
        if not return_std:
            Z, dtype = self._forward(X)
            return self._decode_output(Z, dtype=dtype)
        if not self._has_prediction_masks():
            warn(
                "return_std=True without dropout, input_dropout or dropconnect: the "
                "network is deterministic, so the standard deviation is zero.",
                UserWarning,
            )
            Z, dtype = self._forward(X)
            mean = self._decode_output(Z, dtype=dtype)
            return mean, np.zeros_like(mean)
        samples = self.sample_predictions(X, random_state=self.random_state)
        return samples.mean(axis=0), samples.std(axis=0)

    def _partial_fit_available(self):
        return self.solver != "lbfgs"

    @available_if(_partial_fit_available)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The trained model.
        """
        with self._restored_on_error():
            return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
