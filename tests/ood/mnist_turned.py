"""MNIST test digits on a note photographed askew: a diagnostic of how well the network
reads a digit that is not upright (the service crops, scales and centres what it is
sent, but does not turn it back). The digits are MNIST's, so this is not an
out-of-distribution set.

The digit at position K of the set is drawn x4, dark on a white note on a dark desk
(mnist_http.turned_note), the note turned by ANGLES[(K // 2) % 4] degrees, to the left
at even positions and to the right at odd ones; 300x300 PNG.
"""
import mnist_http

ANGLES = (10, 15, 20, 25)


def angle(k):
    """The turn of the note at position K, in degrees (positive: to the left)."""
    a = ANGLES[(k // 2) % len(ANGLES)]
    return a if k % 2 == 0 else -a


def turned(pixels, k):
    """The image (L) of a 28x28 MNIST digit at position K of the set."""
    return mnist_http.turned_note(pixels, angle(k))


def form(k):
    """How the image at position K is sent, for --misses."""
    return f"turned by {angle(k)} degrees"
