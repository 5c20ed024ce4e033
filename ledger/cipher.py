"""The ledger's cipher: the eventsourcing library's AES-GCM cipher (on the ``cryptography``
package), whose failures are ledger errors said in one line. Apart from
``ledger.encryption`` so that only an encrypted ledger loads it."""

from __future__ import annotations

from eventsourcing.cryptography import AESCipher

from ledger.encryption import Undecryptable


class LedgerCipher(AESCipher):
    """The library's AES-GCM cipher, whose failures are ledger errors said in one line."""

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return super().decrypt(ciphertext)
        except ValueError:
            raise Undecryptable("an event does not decrypt with BLOCKLEDGER_CIPHER_KEY: it "
                                "was altered, or encrypted under another key (run "
                                "'blockledger verify')") from None
