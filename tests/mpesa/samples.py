"""Every payload shape in /work/shared/reference/mpesa-daraja.md, as the reference shows it."""

from __future__ import annotations

from typing import Any

TOKEN = {"access_token": "c9SQxWWhmdVRlyh0zh8gZDTkubVF", "expires_in": "3599"}

ERROR_ENVELOPE = {
    "requestId": "9458-79414631-1",
    "errorCode": "400.002.02",
    "errorMessage": "Bad Request - Invalid PhoneNumber",
}

STK_ACCEPTED = {
    "MerchantRequestID": "16813-1590513-1",
    "CheckoutRequestID": "ws_CO_DMZ_123212312_2342347678234",
    "ResponseCode": "0",
    "ResponseDescription": "Success. Request accepted for processing",
    "CustomerMessage": "Success. Request accepted for processing",
}

STK_SUCCESS: dict[str, Any] = {
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "CallbackMetadata": {
                "Item": [
                    {"Name": "Amount", "Value": 1.00},
                    {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
                    {"Name": "Balance"},
                    {"Name": "TransactionDate", "Value": 20191219102115},
                    {"Name": "PhoneNumber", "Value": 254708374149},
                ]
            },
        }
    }
}

STK_CANCELLED = {
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "68441-128341933-1",
            "CheckoutRequestID": "ws_CO_17112022155511840796440427",
            "ResultCode": 1032,
            "ResultDesc": "Request cancelled by user",
        }
    }
}

STK_QUERY_FINAL = {
    "ResponseCode": "0",
    "ResponseDescription": "The service request has been accepted successsfully",
    "MerchantRequestID": "22205-34066-1",
    "CheckoutRequestID": "ws_CO_13012021093521236557",
    "ResultCode": "1032",
    "ResultDesc": "Request cancelled by user",
}

STK_QUERY_PROCESSING = {
    "requestId": "ws_CO_13012021093521236557",
    "errorCode": "500.001.1001",
    "errorMessage": "The transaction is being processed",
}

REGISTER_ANSWER = {
    "OriginatorCoversationID": "7619-37765134-1",
    "ResponseCode": "0",
    "ResponseDescription": "success",
}

C2B = {
    "TransactionType": "Pay Bill",
    "TransID": "RKTQDM7W6S",
    "TransTime": "20191122063845",
    "TransAmount": "10.00",
    "BusinessShortCode": "600638",
    "BillRefNumber": "invoice008",
    "InvoiceNumber": "",
    "OrgAccountBalance": "49197.00",
    "ThirdPartyTransID": "",
    "MSISDN": "25470****149",
    "FirstName": "John",
    "MiddleName": "",
    "LastName": "",
}

STATUS_ACK = {
    "OriginatorConversationID": "3213-416199-2",
    "ConversationID": "AG_20180223_0000493344ae97d86f75",
    "ResponseCode": "0",
    "ResponseDescription": "Accept the service request successfully.",
}

STATUS_RESULT: dict[str, Any] = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "3213-416199-2",
        "ConversationID": "AG_20180223_0000493344ae97d86f75",
        "TransactionID": "MBN0000000",
        "ResultParameters": {
            "ResultParameter": [
                {"Key": "DebitPartyName", "Value": "600310 - Safaricom333"},
                {"Key": "CreditPartyName", "Value": "254708374149 - John Doe"},
                {"Key": "OriginatorConversationID", "Value": "3211-416020-3"},
                {"Key": "InitiatedTime", "Value": 20180223054112},
                {"Key": "DebitAccountType", "Value": "Utility Account"},
                {"Key": "DebitPartyCharges", "Value": "Fee For B2C Payment|KES|22.40"},
                {"Key": "TransactionReason"},
                {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
                {"Key": "TransactionStatus", "Value": "Completed"},
                {"Key": "FinalisedTime", "Value": 20180223054112},
                {"Key": "Amount", "Value": 300},
                {"Key": "ConversationID", "Value": "AG_20180223_000041b09c22e613d6c9"},
                {"Key": "ReceiptNo", "Value": "MBN31H462N"},
            ]
        },
        "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": "INV-1042"}},
    }
}

STATUS_TIMEOUT = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 1037,
        "ResultDesc": "DS timeout user cannot be reached",
        "OriginatorConversationID": "3213-416199-2",
        "ConversationID": "AG_20180223_0000493344ae97d86f75",
        "TransactionID": "",
    }
}
