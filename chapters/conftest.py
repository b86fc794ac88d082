"""pytest settings for the chapters: nbval's kernels get the environment of ``make refresh``.

nbval starts each kernel with this process's environment. A caller's
``MPLBACKEND=Agg`` (common on headless machines and CI) would make every
``plt.show()`` print nothing, so the stored figures would not be reproduced;
an unset ``PYTHONHASHSEED`` would let set ordering vary. The kernels that
stored the outputs ran with :data:`klbook.notebooks.KERNEL_ENV`, so the kernels
that check them do too.
"""

import os

from klbook.notebooks import KERNEL_ENV

os.environ.update(KERNEL_ENV)
